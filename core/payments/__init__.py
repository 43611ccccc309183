"""Getting paid: amounts and unique codes, the accounts runners pay into, payment photos and their
screenshots, verification and rejection, deadlines, the verification queue (review_queue) and bank
statements. Lock order: registration (registration.stock), then payment (state)."""
