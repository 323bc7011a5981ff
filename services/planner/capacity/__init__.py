"""The planner's capacity core: therapists, their hours and bookings, and who gives which session.

Pure: no I/O, no clock, no settings. Times of day are local wall-clock minutes since
midnight (`clock.py`), so daylight-saving changes never shift a session; dates are the
clinic's local dates.

- `roster.py`: the roster built from staff facts in any order (R-ROSTER);
- `bookings.py`: bookings held and when two conflict (R-NO-OVERLAP);
- `free.py`: a therapist's free starts and free time on a day, as exact intervals;
- `assign.py`: one session on one day (R-CONTINUITY, R-PREFERRED-TIME, R-PT-BEFORE);
- `place.py`: a course's sessions, day by day (R-CAPACITY, R-PLAN-STABLE);
- `absence.py`: the sessions an absence hits (R-THERAPIST-ABSENT);
- `policy.py`: turnover and horizon (**policy** numbers).
"""
