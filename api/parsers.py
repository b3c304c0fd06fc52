"""The API's JSON parser: DRF's, with a body nested too deep for the decoder answered as a bad
request (a JSON 400) rather than a RecursionError (a 500). A body larger than
settings.DATA_UPLOAD_MAX_MEMORY_SIZE is refused by Django before it is parsed (a JSON 413,
api/errors.py)."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JSONBodyParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None
