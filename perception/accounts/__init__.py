"""Accounts: staff, leaders and admins, their teams, logging in, personal API tokens, and managing
people.

service.py makes accounts and tokens, queries.py finds people and teams, views.py holds the login and
token pages, forms.py their forms, commands.py `create-user` and `users`. people_*.py are the admins'
people pages (/admin/people: invite, role and team, deactivate, activate); password_*.py the
single-use set-password links of invitations and resets, "Forgot your password?" and the
set-password page; mail.py writes and delivers their mails from the outbox."""
