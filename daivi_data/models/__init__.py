"""Pure page models, one per view: a request parsed from widget/URL values -> the queries -> result dataclasses."""
