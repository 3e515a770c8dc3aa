-- Report categories by code, with their Vietnamese and English names: labels for pages.
SELECT code, name_vi, name_en FROM report_categories ORDER BY sort_order
