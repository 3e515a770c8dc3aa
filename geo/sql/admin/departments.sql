-- City departments by code, with their Vietnamese and English names: labels for pages.
SELECT code, name_vi, name_en FROM departments ORDER BY code
