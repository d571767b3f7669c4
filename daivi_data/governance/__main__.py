"""`python -m daivi_data.governance plan|apply`: apply the grants file to Lake Formation."""

from daivi_data.lakeformation import main

raise SystemExit(main())
