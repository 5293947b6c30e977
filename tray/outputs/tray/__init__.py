"""The tray icon and its menu: the icon drawn per state, the menu as data, the controller that carries out a menu
entry through the app's pieces, and the backends that show them (pystray with XEmbed, StatusNotifierItem with
dbusmenu), chosen from what the display offers.
"""
