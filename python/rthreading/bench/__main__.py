import sys

from rthreading.bench import main

sys.exit(main())
