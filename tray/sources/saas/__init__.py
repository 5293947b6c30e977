"""Hosted services read over their public APIs: PagerDuty, Zendesk, Trello and Atlassian Statuspage."""
