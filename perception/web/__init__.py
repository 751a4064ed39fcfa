"""What every page shares: the audience blueprints and their policies (public, customer, staff,
leaders, API), security headers and role checks, error pages, languages, the shared form
fields, the mail composer, and the plotly.js asset."""
