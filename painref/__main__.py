from painref.main import main

main()
