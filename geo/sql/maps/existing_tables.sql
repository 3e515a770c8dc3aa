-- Which of the named tables exist (analytics outputs appear once their engine has run).
SELECT name FROM unnest(%(names)s::text[]) AS name WHERE to_regclass(name) IS NOT NULL
