"""The demo: `seed-demo` fills an empty database with teams, people, two waves and answers that show
a gap, and `demo-info` prints the logins and a fresh customer link."""
