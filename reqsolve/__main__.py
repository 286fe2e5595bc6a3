from reqsolve.cli import main

main()
