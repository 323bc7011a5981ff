"""The planner's capacity core: therapists, their hours and bookings, and who gives which session.

Pure: no I/O, no clock, no settings. Times of day are local wall-clock minutes since
midnight (`clock.py`), so daylight-saving changes never shift a session; dates are the
clinic's local dates.
"""
