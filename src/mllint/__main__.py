from mllint.cli import main

raise SystemExit(main())
