from flask import Blueprint

bp = Blueprint("jobs_vtt", __name__, url_prefix="/api/v1/jobs")
