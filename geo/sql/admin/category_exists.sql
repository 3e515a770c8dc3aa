-- Whether a report category exists (filters that name one).
SELECT 1 FROM report_categories WHERE code = %(code)s
