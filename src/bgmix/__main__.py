"""``python -m bgmix``: the same command line as the ``bgmix`` script."""

from bgmix._cli import main

if __name__ == "__main__":
    main(prog_name="bgmix")
