"""Deployment on AWS, generated from the code: the CloudFormation stack and the Glue tables' DDL.

`python -m deploy.generate` writes `deploy/cloudformation/daivi.yaml` and
`deploy/glue/<database>.sql`; a test regenerates both and fails when the
committed files differ, so they are never edited by hand.
"""
