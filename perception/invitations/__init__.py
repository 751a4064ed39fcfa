"""Invitations: reaching customers with personal links (one customer, one survey, one secret link)
and open links (QR codes), and delivering the invitation and reminder emails.

service.py creates invitations and keeps the suppression list, csv_import.py invites from a file,
queries.py builds links and counts the funnel, mail.py delivers the outbox, open_link_service.py makes
and answers open links, views.py and forms.py are the leaders' pages, customer_views.py the open link
and unsubscribe pages, commands.py `send-invitations`."""
