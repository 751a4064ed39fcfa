"""Customer links and addresses never reach a log line (README "A short tour"): the secret in a
customer path, `/s/<token>`, `/s/r/<token>` (re-survey), `/s/o/<token>` (open link) and `/s/unsubscribe/<token>`,
is written `/s/<redacted>` (`/s/r/<redacted>` ...) by every logger, and so is an account's
set-password link, `/set-password/<token>`, and an address in a query value (`?q=ada%40example.org`
becomes `?q=<redacted>`), that prints request paths in the servers the README names:

- `werkzeug`: the request log of `flask run` and of the threaded test server;
- `gunicorn.access` and `gunicorn.error`: gunicorn's access log (whatever `--access-logformat`:
  every atom, `%(r)s`, `%(U)s`, `%({raw_uri}e)s` ..., is redacted) and its error log. gunicorn's
  workers build the app, so the filter is on those loggers in the process that writes the lines;
- the app's own logger ("Exception on /s/... [GET]").

A proxy or load balancer in front keeps a log of its own: see the README."""

import logging
import re

REDACTED = "<redacted>"
TOKEN_PATH = re.compile(
    r"""(^|[\s"'=]|://[^/\s"']*)"""  # a path starts the text, a word or a value, or follows a host
    r"""(/s/(?:(?:r|o|unsubscribe)/)?|/set-password/)"""  # the pages with a secret in their path
    r"""(?!(?:r|o|unsubscribe|answer|thanks)(?:$|[/\s?#"']))"""  # pages without one: /s/answer, /s/r/thanks
    r"""[^/\s?#"']+"""  # the secret
)
# A query value holding an address ("/admin/people?q=ada%40example.org", "/admin/audit?actor=..."): the
# admins' search forms are GET forms, so the address reached the access log (a robustness review).
# A value starts after "?" or "&", or at the start of a query string alone (gunicorn's %(q)s atom).
ADDRESS_IN_QUERY = re.compile(r"""((?:^|[?&\s"'])[^=&\s"'#?/]*=)[^&\s"'#]*(?:@|%40)[^&\s"'#]*""",
                              re.IGNORECASE)
# The values of the free-text searches, whatever they hold: the admins' people search ("q"), the audit
# log's who and id, and a login's "next" (the page asked for, its search with it). A name typed into them
# reached the access log, since only addresses were redacted (a privacy review).
FREE_TEXT_IN_QUERY = re.compile(r"""((?:^|[?&\s"'])(?:q|actor|target_id|next)=)[^&\s"'#]+""")
SERVER_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


def redact(text):
    """`text` with the secret of every customer path, every address in a query and every free-text
    search value replaced by <redacted>."""
    text = TOKEN_PATH.sub(r"\g<1>\g<2>" + REDACTED, text)
    return FREE_TEXT_IN_QUERY.sub(r"\g<1>" + REDACTED, ADDRESS_IN_QUERY.sub(r"\g<1>" + REDACTED, text))


class TokenPathFilter(logging.Filter):
    """Rewrites a record's message and arguments (a tuple, or gunicorn's dict of atoms) in place."""

    def filter(self, record):
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, dict):
            for key, value in list(record.args.items()):
                if isinstance(value, str):
                    record.args[key] = redact(value)
        elif isinstance(record.args, tuple):
            record.args = tuple(redact(value) if isinstance(value, str) else value for value in record.args)
        return True


TOKEN_FILTER = TokenPathFilter()


def init_app(app):
    """Put the filter on the server loggers and the app's logger (once: `addFilter` keeps one copy)."""
    for name in SERVER_LOGGERS:
        logging.getLogger(name).addFilter(TOKEN_FILTER)
    app.logger.addFilter(TOKEN_FILTER)
