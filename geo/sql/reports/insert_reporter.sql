-- Who filed the report (personal data: read only by staff of the handling unit).
INSERT INTO reporters (report_id, full_name, phone, email, device_id)
VALUES (%(report_id)s, %(full_name)s, %(phone)s, %(email)s, %(device_id)s)
