from activation_semantic.cli import main

main()
