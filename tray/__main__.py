from tray.cli.main import main

raise SystemExit(main())
