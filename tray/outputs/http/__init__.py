"""The local endpoint on loopback: the HTTP server with status.json and the dashboard (package data), request
signing and the pairing of browser extensions.
"""
