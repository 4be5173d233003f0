"""The LALR(1) grammar of claims (lark), over the tokens of :mod:`derive.claims.lexer`.

Precedence, loosest first: ``=`` (top level only); ``+ -``; the *chain* of factors joined by
juxtaposition, ``* \\cdot \\times / \\circ \\odot`` (all equal, left to right); a unary minus
applies to the whole chain after it; ``\\sum`` and the operator ``\\frac{d}{dx}`` take the rest of
the chain; postfix scripts ``_ ^ ^T ^{(1)}`` bind tightest.

Function application (``func``): a function name followed by ``( args )``, ``[ x ]``,
``{ x }`` or ``\\{ x \\}`` applies to that group; followed by anything else that starts an atom it
applies to that one atom with its scripts: ``\\tanh x^2`` is tanh(x^2), ``\\log p_i q_i`` is
log(p_i) q_i, ``\\log \\sigma(z)`` is log(sigma(z)). Scripts between the name and the argument
belong to the call: ``\\tanh^2(x)``. After a name that is not a function, a group is a product.
LALR sees this as a shift/reduce conflict between "apply" and "the name alone" (``\\sigma`` on its
own is the Greek letter, as in ``\\sigma^2 + \\epsilon``); lark resolves every shift/reduce
conflict by shifting, which is exactly "apply". The other shift is ``\\nabla_x f``: scripts after
it belong to f (``\\nabla_W L_A`` is the gradient of L_A). ``tests/test_claims_parse.py`` pins
the conflicts to these two decisions.

Environments: ``\\begin{cases} v & \\text{if } c \\\\ w & \\text{otherwise} \\end{cases}`` (``&``
and ``\\\\`` are cell and row separators only inside it). Sums may skip an index:
``\\sum_{j \\neq i}``, ``\\sum_{j=1, j \\neq i}^{m}``. A subscript of indices on something that
is not a name is an entry of it: ``S(\\mathbf{x})_i``, ``(\\nabla_y L)_1``.

Absolute values and norms written with bare bars are ambiguous (``|a|b|c|``); inside ``|...|`` or
``\\|...\\|`` a factor may not start with another bare bar (use brackets, or ``\\left|``,
``\\lvert``, which are unambiguous). That is why the expression rules exist twice: the plain ones
and the ``_nb`` ("no bar") ones used between bars, generated from one template below.
"""

from __future__ import annotations

_DECLARE = """
%declare NUMBER LETTER GREEK WORDNAME SUBTEXT SYMBOL FUNC XFUNC
%declare PLUS MINUS MUL HAD DIV CMP
%declare _POW _SUB _EQ _COMMA
%declare _LPAR _RPAR _LBRACK _RBRACK _LBRACE _RBRACE _LCURLY _RCURLY
%declare BAR DBAR LABS _RABS LNORM _RNORM
%declare FRAC SUM PARTIAL DECOR ACCENT ONES TRANSPOSE LABEL
%declare NABLA HPOW LCASES RCASES _AMP _ROWSEP IFWORD OTHERWISE
"""

_SHARED = r"""
start: expr (_EQ expr)*

?inner: expr
      | expr CMP expr                       -> compare
      | expr _EQ expr                       -> compare_eq

?group: _LPAR inner _RPAR
      | _LBRACK inner _RBRACK
      | _LBRACE inner _RBRACE
      | _LCURLY inner _RCURLY

?leaf: NUMBER                               -> number
     | LETTER                               -> letter
     | GREEK                                -> greek
     | WORDNAME                             -> wordname

?fracarg: _LBRACE expr _RBRACE | leaf
?decarg: _LBRACE expr _RBRACE
       | leaf
       | DECOR decarg                       -> decor
       | ACCENT decarg                      -> accent
?exparg: _LBRACE expr _RBRACE
       | _LPAR expr _RPAR
       | leaf
       | MINUS exparg                       -> neg

?func: FUNC | XFUNC
funchead: func script*
funcname: funchead
arglist: expr (_COMMA expr)*

script: TRANSPOSE                           -> s_transpose
      | LABEL                               -> s_label
      | _SUB subarg                         -> s_sub
      | _POW exparg                         -> s_pow
      | HPOW                                -> s_hpow

subarg: subtoken | _LBRACE subitem+ _RBRACE
?subtoken: LETTER | NUMBER | GREEK | SYMBOL | WORDNAME | SUBTEXT | FUNC
subitem: subtoken | MUL | PLUS | MINUS
       | _COMMA                             -> sub_comma
       | _POW substar                       -> sub_star
       | _SUB subarg                        -> sub_sub
       | DECOR _LBRACE subitem+ _RBRACE     -> sub_decor
substar: MUL | SYMBOL | _LBRACE (MUL | SYMBOL) _RBRACE

ones: ONES (_SUB onessub)?
?onessub: leaf | _LBRACE inner _RBRACE
onespost: ones oscript*
?oscript: TRANSPOSE                         -> s_transpose
        | _POW exparg                       -> s_pow

sumlim: _SUB sumlower (_POW exparg)?        -> lim_lower_upper
      | _POW exparg (_SUB sumlower)?        -> lim_upper_lower
sumlower: sumindex                          -> lower_index
        | _LBRACE sumindex (_EQ expr)? _RBRACE -> lower_braced
        | _LBRACE sumindex CMP sumindex _RBRACE -> lower_except
        | _LBRACE sumindex _EQ expr _COMMA sumindex CMP sumindex _RBRACE -> lower_braced_except

caserows: caserow (_ROWSEP caserow)* _ROWSEP?
caserow: expr _AMP IFWORD? expr CMP expr    -> case_if
       | expr _AMP IFWORD? expr _EQ expr    -> case_if_eq
       | expr _AMP OTHERWISE                -> case_else
?sumindex: LETTER | GREEK

?mulop: MUL | HAD | DIV
?addop: PLUS | MINUS
"""

# The expression rules, once with bars allowed ("") and once without ("_nb").
_LEVELS = r"""
expr{s}: term{s} (addop term{s})*           -> expr
?term{s}: chain{s}
        | MINUS term{s}                     -> neg
        | PLUS term{s}                      -> pos
chain{s}: factor{s} link{s}* (mulop? bigop{s})? -> chain
        | bigop{s}                          -> chain
link{s}: factor{s}                          -> juxt
       | mulop ufactor{s}                   -> oplink
?ufactor{s}: factor{s}
           | MINUS ufactor{s}               -> neg
bigop{s}: SUM sumlim? term{s}               -> bigsum
?factor{s}: postfix{s} | funcname | onespost
postfix{s}: primary{s} script*              -> postfix
?primary{s}: atom{s} | group
?atom{s}: leaf
        | FRAC fracarg fracarg              -> frac
        | funchead fargs{s}                 -> call
        | PARTIAL                           -> partial
        | DECOR decarg                      -> decor
        | ACCENT decarg                     -> accent
        | LABS expr _RABS                   -> abs
        | LNORM expr _RNORM                 -> norm{bars}
        | NABLA _SUB decarg postfix{s}      -> nabla
        | LCASES caserows RCASES            -> cases
fargs{s}: _LPAR arglist _RPAR               -> fargs_paren
        | _LBRACK expr _RBRACK              -> fargs_bracket
        | _LBRACE expr _RBRACE              -> fargs_one
        | _LCURLY arglist _RCURLY           -> fargs_paren
        | atom{s} script*                   -> fargs_simple
"""

_BARS = r"""
        | BAR expr_nb BAR                   -> abs
        | DBAR expr_nb DBAR                 -> norm"""


def grammar() -> str:
    """The full grammar text."""
    return (
        _DECLARE
        + _SHARED
        + _LEVELS.replace("{s}", "").replace("{bars}", _BARS)
        + _LEVELS.replace("{s}", "_nb").replace("{bars}", "")
    )
