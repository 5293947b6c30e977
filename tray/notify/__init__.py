"""Desktop pop-ups on changes: the pure policy deciding whether an event pops up, what was held back and the
lines telling the user why, and the notifier that groups and sends them.
"""
