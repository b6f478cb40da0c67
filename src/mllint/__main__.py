from mllint.cli.main import main

raise SystemExit(main())
