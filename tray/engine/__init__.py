"""Polling and the latest snapshot: the shared HTTP session, the per-source scheduler and poll loop, and the
store every output reads the current health from.
"""
