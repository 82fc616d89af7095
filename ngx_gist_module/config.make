# Builds lib/ (the C++ core) with CMake before NGINX compiles and links the module's glue.
cat << END                                            >> $NGX_MAKEFILE

$ngx_gist_lib: $ngx_gist_root/lib/CMakeLists.txt
	cmake -S $ngx_gist_root -B $ngx_gist_objs/gist-lib -DGIST_BUILD_MODULE=OFF \
		-DGIST_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $ngx_gist_objs/gist-lib --target gist -j2

END
