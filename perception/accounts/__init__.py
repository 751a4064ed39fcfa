"""Accounts: staff, leaders and admins, their teams, logging in, and personal API tokens.

service.py makes accounts and tokens, queries.py finds people and teams, views.py holds the login and
token pages, forms.py their forms, commands.py `create-user`."""
