"""Flask extensions, created unbound and bound to the app in create_app()."""
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from sync.models import Base

db = SQLAlchemy(model_class=Base)
csrf = CSRFProtect()


def init_app(app):
    """Bind every extension to the app."""
    db.init_app(app)
    csrf.init_app(app)
