"""Personal data out of complaint text before it is written anywhere lasting.

``redact(text, known=KnownPersonalData(...))`` returns the text with typed placeholders and
the spans it replaced. Pure: the one thing it loads is the offline name recogniser's model,
from inside its wheel, once per process.
"""

from shared.redaction.known import KnownPersonalData
from shared.redaction.names import NameRecogniser
from shared.redaction.redact import Redacted, redact
from shared.redaction.span import Kind, Span

__all__ = ["Kind", "KnownPersonalData", "NameRecogniser", "Redacted", "Span", "redact"]
