from intercity.cli import main

raise SystemExit(main())
