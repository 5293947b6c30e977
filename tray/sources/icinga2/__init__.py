"""The Icinga 2 REST API source: the pure parser of its objects, the fetching source, and the live event stream
that keeps it current between polls.
"""
