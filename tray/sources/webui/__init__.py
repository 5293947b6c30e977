"""Sources that read a monitoring web UI rather than a dedicated API: Nagios / Icinga 1 CGIs and Icinga Web 2 /
Icinga DB Web, over their shared settings, authentication and value coercers.
"""
