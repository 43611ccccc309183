"""Reading transfer screenshots: normalise the image, run an OCR engine, extract and check fields.

``normalise`` and ``extract`` are pure (pixels and text in, values out); ``engines`` holds the OCR
call behind a small interface; ``checks`` compares a reading with what the registration owes and
the event's accounts. The worker (workers/screenshots.py) glues them together off the reply path.
"""
