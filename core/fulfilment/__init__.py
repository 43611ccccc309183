"""After payment: BIB numbers (paid), e-tickets and their image, check-in at pickup, desks, letter
photos and the check-in exports."""
