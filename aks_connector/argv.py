"""az's multi-value flags (`--secret name=u secret=p`, `--customized-keys a=b c=d`) for a typer command line.

az reads `key=value` words after these flags (argparse nargs='*'); click options take one value each, so the
words are rewritten into repeated options before parsing, and the values that are secrets are remembered so
nothing the CLI prints can show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# flag -> the option each key=value word becomes (a flag given without words stays a plain flag)
PAIR_FLAGS = {
    "--secret": "--secret-pair",
    "--service-principal": "--service-principal-pair",
    "--customized-keys": "--customized-key",
}
# Keys whose values are credentials (az's names: --secret secret=..., --service-principal secret=...).
SECRET_KEYS = frozenset({"secret", "secret-uri", "secret-name"})


@dataclass
class Rewritten:
    """The command line to parse and the secret values it carried."""

    args: list[str]
    secrets: set[str] = field(default_factory=set)


def rewrite(argv: list[str]) -> Rewritten:
    """Turn each `FLAG k=v k2=v2` into `FLAG --PAIR k=v --PAIR k2=v2`, remembering secret values."""
    out = Rewritten([])
    pair_option: str | None = None
    flag: str | None = None
    for word in argv:
        if pair_option is not None and not word.startswith("-") and "=" in word:
            out.args += [pair_option, word]
            key, _, value = word.partition("=")
            if flag in ("--secret", "--service-principal") and key.strip().lower() in SECRET_KEYS and value:
                out.secrets.add(value)
            continue
        pair_option = PAIR_FLAGS.get(word)
        flag = word if pair_option else None
        if word == "--customized-keys":
            continue  # only the pairs carry meaning
        out.args.append(word)
    return out


def pairs(words: list[str] | None, option: str) -> dict[str, str]:
    """`k=v` words as a dict (the last of a repeated key wins)."""
    found: dict[str, str] = {}
    for word in words or []:
        key, sep, value = word.partition("=")
        if not sep or not key.strip():
            from aks_connector.errors import usage_error

            raise usage_error(f"{option} takes key=value words, not {word!r}.", option)
        found[key.strip()] = value
    return found
