"""Follow-ups: closing the loop with unhappy customers.

service.py opens follow-ups (the alert rule) and records contacts, notes, reassignments and
resolutions; queries.py lists and counts them within a user's scope; mail.py alerts the assignee;
recovery_service.py and customer_views.py re-survey a customer after resolution; timeline_queries.py
is a customer's history; triads_service.py and staff_views.py ask staff how the customer felt (their guess);
erasure_service.py erases a customer; views.py and forms.py are the leaders' pages; commands.py
`erase-customer` and `send-followup-alerts`."""
