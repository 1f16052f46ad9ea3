"""The console's forms (Flask-WTF: each carries its CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class SignInForm(FlaskForm):  # type: ignore[misc]  # flask-wtf ships no type information
    username = StringField(validators=[DataRequired(), Length(max=100)])
    password = PasswordField(validators=[DataRequired(), Length(max=1000)])


class NumberSearchForm(FlaskForm):  # type: ignore[misc]
    """A relative's phone number, as staff type it (normalised to E.164 by the view)."""

    number = StringField(validators=[DataRequired(), Length(max=40)])


class ContactPersonForm(FlaskForm):  # type: ignore[misc]
    """The advisor id to make the relative's contact person; empty: nobody (checked by the service)."""

    advisor = StringField(validators=[Length(max=64)])


class HandoverReadForm(FlaskForm):  # type: ignore[misc]
    """The start of the shift whose handover is marked read (Unix seconds, from the page)."""

    shift = StringField(validators=[DataRequired(), Length(max=20)])


class ExportForm(FlaskForm):  # type: ignore[misc]
    """A relative's data exported: `json`, or `csv` (a zip of one CSV per table)."""

    format = StringField(validators=[DataRequired(), Length(max=8)])


class ConfirmErasureForm(FlaskForm):  # type: ignore[misc]
    """The box ticked to confirm that a relative's data is to be erased."""

    confirm = BooleanField(validators=[DataRequired()])
