# Copy to instance/config.py. Every setting can also be given as an environment
# variable with the MODERATION_ prefix, which wins over this file.

# DATABASE_URL = "postgresql+psycopg://moderation@127.0.0.1:5432/moderation"
# RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/0"
# TRUSTED_PROXIES = 1
# SESSION_COOKIE_SECURE = True
# LIMIT_SUBMIT_PER_ADDRESS = "5/minute;30/hour"
# LIMIT_SUBMIT_PER_EMAIL = "10/hour"
# EMAIL_CHECK_DELIVERABILITY = False
