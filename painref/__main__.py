from painref.cli import main

main()
