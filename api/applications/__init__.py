"""Residents' membership applications: a wallet applies (signed in with SIWE) with the little
personal data the village enterprise needs to check residence; staff approve (the API onboards
the address on CityAccess with its onboarding key) or reject with a reason code. The personal
data stays off chain, in the API's database, readable by the applicant and the reviewing staff
(VILLAGE_ENTERPRISE, OPERATOR) only (DESIGN §6)."""
