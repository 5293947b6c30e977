"""Who works when: the pure rules of the shift hours, the shift as the running app sees it (settings and a rota
reloaded hourly), and rotas read from CSV or iCalendar.
"""
