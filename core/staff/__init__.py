"""Staff (admins, verifiers, check-in volunteers; the AdminUser model): accounts, roles and login
throttling."""
