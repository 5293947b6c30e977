"""Where the health goes out to the user: the tray icon (tray) and the local HTTP endpoint with its dashboard
(http).
"""
