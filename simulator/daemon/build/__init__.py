"""The Dockerfile front end of csim's builder: text to typed, scoped instructions.

``docker build`` reads a Dockerfile in three steps before running anything;
each is one module here, so a student can see where an error comes from:

1. :mod:`.parser` — ``parse_dockerfile(text: str | bytes) -> Result``:
   lines, continuations, comments, parser directives (``# escape=``,
   ``# syntax=``), JSON vs shell form and heredocs become an AST
   (``Result.ast.children``, one :class:`~.parser.Node` per instruction with
   ``start_line``/``end_line``), plus ``Result.warnings`` and
   ``Result.directives``. ``Node.dump()`` is buildkit's dump format.
   Errors: :class:`~.parser.DockerfileParseError`
   (``failed to parse Dockerfile: ENV must have two arguments``).
2. :mod:`.instructions` — ``parse_instructions(result) -> list[Stage]`` and
   ``parse_stages(result) -> (stages, meta_args)``: frozen dataclasses
   (``From``, ``Run``, ``Copy``, ``Add``, ``Env``, ``Arg``, ``Workdir``,
   ``User``, ``Cmd``, ``Entrypoint``, ``Expose``, ``Label``, ``Volume``,
   ``Stopsignal``, ``Healthcheck``, ``Shell``, ``Onbuild``, ``Maintainer``),
   each with ``line``, ``end_line`` and ``original``. Errors:
   :class:`~.instructions.InstructionParseError`
   (``dockerfile parse error line 3: unknown instruction: FOO``) and
   :class:`~.instructions.NoBuildStageError`.
3. :mod:`.build_args` — ``BuildArgs`` (meta args, stage args,
   ``--build-arg`` values, ENV over ARG) and ``expand_instruction(instr, lex,
   env)``, using :mod:`.shell_lex` (``ShellLex.process_word`` /
   ``process_words``) for ``$VAR`` expansion.

Helpers: :mod:`.line_parsers` (per-instruction argument shapes) and
:mod:`.flags` (``--flag`` checking, Go durations, ``RUN --mount``).
Nothing here executes an instruction; the builder does that.
Error wording follows dockerd 20.10's legacy builder; syntax follows
buildkit's parser (heredocs included).
"""
