-- Ward/commune (and city) names by code: labels for pages.
SELECT code, name FROM admin_units ORDER BY code
