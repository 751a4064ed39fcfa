"""Teams: list, create, rename, merge, archive and restore (`/admin/teams` and `flask teams`)."""
