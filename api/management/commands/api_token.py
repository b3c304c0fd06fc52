"""`manage.py api_token USERNAME [--days N]`: make an API credential for a user and print it
once (only its digest is kept); `--revoke` deletes every credential of the user instead."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from knox.models import AuthToken


class Command(BaseCommand):
    help = "Make (or, with --revoke, revoke) the API credentials of a user."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="days the credential is valid (default API_TOKEN_DAYS; 0: never expires)",
        )
        parser.add_argument("--revoke", action="store_true", help="revoke every credential")

    def handle(self, *args, username, days, revoke, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(_("there is no user %(user)r") % {"user": username})
        if revoke:
            count, _kinds = AuthToken.objects.filter(user=user).delete()
            self.stdout.write(
                _("%(n)d credential(s) of %(user)s revoked") % {"n": count, "user": username}
            )
            return
        days = settings.API_TOKEN_DAYS if days is None else days
        _token, key = AuthToken.objects.create(
            user=user, expiry=timedelta(days=days) if days else None
        )
        self.stdout.write(key)
