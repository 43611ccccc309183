"""A runner's registration: submit a draft (intake), slots and jersey stock (stock), the organiser's
edit/cancel/move (manage) and finding registrations (search)."""
