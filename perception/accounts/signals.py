"""What the accounts part tells the parts above it without importing them (imports point down only).

`scope_changed` is sent with the account, inside the transaction that changed its role, team or
active state, before the commit: a receiver's writes commit or roll back with the change. Keyword
arguments: `actor` (who changed it, None from the command line) and `now`."""

from blinker import Namespace

_signals = Namespace()
scope_changed = _signals.signal("account-scope-changed")
